"""The model artifact: its card (model.json), the ONNX export and runtime, and the checked store in models/."""
