"""Small vision model definitions saekit carries itself (torchvision cannot be used here)."""
