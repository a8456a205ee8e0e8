"""PyTorch modules: structural (anonymous-walk) layers and models, curvature layers, PyG baselines."""
