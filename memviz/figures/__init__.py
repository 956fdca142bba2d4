"""Figures: plain functions from traces (numpy arrays) to plotly/altair figures, no Streamlit."""
