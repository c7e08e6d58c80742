"""What the pages show, computed without Streamlit so it is tested: the slider car, share links, labels, charts."""
