"""People who get paged, and how to reach them."""
