"""End-to-End Memory Networks (Sukhbaatar et al. 2015) on bAbI.

``model`` (the torch model and its hop trace), ``train``, ``evaluate`` and
``explore`` (the MemN2N Explorer's logic, without streamlit).
"""
