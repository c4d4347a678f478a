"""Turning text into vectors: the MiniLM encoder, its int8 ONNX build, placement, batching and the embedding cache."""
