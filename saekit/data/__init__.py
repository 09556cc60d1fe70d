"""Model inputs: text corpora packed into token windows, and images."""
