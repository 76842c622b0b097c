"""Raw layer: delivered files as they are, one partition per snapshot date."""
