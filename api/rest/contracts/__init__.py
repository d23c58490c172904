"""One module per legacy contract: its request/response models and its rows of the route table."""
