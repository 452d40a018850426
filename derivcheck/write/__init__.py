"""Writing: the LaTeX printer, Jinja templates, derivation sheets, reports, PDFs and the
command line's text."""
