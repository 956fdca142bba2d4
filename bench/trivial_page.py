"""Baseline for the rerun benchmarks: one slider and one plotly chart, nothing else."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

n = st.slider("points", 2, 64, 12, key="points")
st.plotly_chart(go.Figure(go.Scatter(y=np.sin(np.arange(n, dtype=np.float32)))), key="chart")
