"""The app's pages (layout only) and the caches they share; streamlit_app.py routes to them."""
