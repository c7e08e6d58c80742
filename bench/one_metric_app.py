"""The yardstick for the app's first prediction: a one-line Streamlit app showing one metric."""

import streamlit as st

st.metric("Predicted MPG", "23.1")
