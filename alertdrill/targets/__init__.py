"""Small real services the harness runs as scrape targets."""
