"""The analysis side: pure functions over pandas, NumPy, SciPy and statsmodels.

No Streamlit and no database here; ``scoring`` may import ``survey``'s model types, never the
reverse.
"""
