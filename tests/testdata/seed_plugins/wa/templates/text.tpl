    wa saw {{ results.saw | length }} workers before it{% if payload.size > 3 %} (a big one){% endif %}
