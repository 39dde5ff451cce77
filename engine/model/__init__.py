"""The shipped NER model: ``model.int8.onnx``, ``tokenizer.json``, ``labels.json`` and
``manifest.json`` (sha256 of each file, data recipe version, training and held-out metrics).
Made by ``make train`` (see ``training/README.md``); loaded by ``engine.detectors.model``."""
