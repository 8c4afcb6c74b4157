"""Official documents (文书): what each kind says, how it is drawn (Jinja2 → HTML → PDF with WeasyPrint), the
seal drawn on it, its number and its signature. Pure: no database here; ``_services/documents.py`` keeps them."""
