"""The Neural Turing Machine family (Graves, Wayne & Danihelka 2014) and its LSTM baseline.

``model`` (the torch model, traces and overrides), ``fast`` (the NumPy
batch-one inference step that ``model.run`` traces with), ``train``,
``evaluate`` and ``explore`` (the NTM Explorer's logic, without streamlit).
"""
