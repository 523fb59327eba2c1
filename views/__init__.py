"""Thin Streamlit pages: no statistics and no SQL here."""
