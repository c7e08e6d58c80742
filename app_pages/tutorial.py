"""The tutorial, step by step: what it did, what was wrong, what we do instead, with live figures. Layout only."""

import os

import streamlit as st

from app_pages.shared import get_data, get_model
from app_pages.view.stages import module_link, stages

st.title("The tutorial, step by step")
st.write(
    "This project rebuilds a well-known end-to-end tutorial on the same data. Each stage below says what the "
    "tutorial did, what was wrong with it where something was, and what this project does instead. The figures "
    "are read from the model card and the data as the page is drawn."
)
source_url = os.environ.get("MPG_SOURCE_URL")  # where the code is published, for links to each module
for stage in stages(get_model().card, get_data()):
    st.subheader(stage.title)
    st.markdown(f"**What the tutorial did.** {stage.tutorial}")
    if stage.wrong:
        st.markdown(f"**What was wrong.** {stage.wrong}")
    st.markdown(f"**What we do instead.** {stage.ours}")
    for start in range(0, len(stage.figures), 3):
        for column, figure in zip(st.columns(3), stage.figures[start : start + 3], strict=False):
            if len(figure.value) > 14:  # words, not a figure: a metric's large type would cut them off
                column.markdown(f"{figure.label}  \n**{figure.value}**")
                continue
            delta = f"tutorial: {figure.tutorial}" if figure.tutorial else None
            column.metric(figure.label, figure.value, delta=delta, delta_color="off", delta_arrow="off")
    st.caption("The code: " + ", ".join(module_link(path, source_url) for path in stage.modules))
