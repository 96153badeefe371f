"""gradbench's measuring and presenting side: sweep -> fit -> plot -> report."""
