<li>wa on {{ payload.payload_meta.extra_data.filename }}</li>
