{#- stoq's default text layout (`stoq scan -T text`). Each worker's results go through the
    worker's own templates/text.tpl when it has one, else as `key: value` lines. -#}
scan {{ scan_id }}  {{ time }}
{% for result in results %}

payload {{ loop.index }}: {{ result.payload_meta.extra_data.filename or result.payload_id }}  ({{ result.size }} bytes)
{% if result.extracted_by.length %}
  extracted by {{ result.extracted_by | join(", ") }}
{% endif %}
{% if result.payload_meta.extra_data.tlp %}
  TLP: {{ result.payload_meta.extra_data.tlp | upper }}
{% endif %}
{% for name, worker in result.workers %}
  [{{ name }}]
{% set own = plugin_template(name, worker, result) %}
{% if own != null %}
{{ own }}
{% else %}
{% for key, value in worker %}
    {{ key }}: {% if value is string or value is number %}{{ value }}{% else %}{{ value | json }}{% endif %}

{% endfor %}
{% endif %}
{% endfor %}
{% endfor %}
{% for name, decorator in decorators %}

decorator [{{ name }}]: {{ decorator | json }}
{% endfor %}
{% if errors.length %}

errors ({{ errors.length }}):
{% for error in errors %}
  - [{{ error.kind }}{% if error.plugin_name %} {{ error.plugin_name }}{% endif %}] {{ error.error }}
{% endfor %}
{% endif %}
