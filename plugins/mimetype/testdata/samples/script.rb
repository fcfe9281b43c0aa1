require 'json'

def hello
  puts JSON.generate([1])
end
