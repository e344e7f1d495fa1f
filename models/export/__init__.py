"""Ways out of Python for an artefact: one ONNX graph from noise and conditions to events in
physical units (:mod:`.graph`, :mod:`.onnx_file`) and a Triton model repository around it
(:mod:`.triton`). onnx is an optional dependency (``pip install 'hepgan[onnx]'``)."""
