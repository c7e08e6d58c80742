#!/bin/sh
# Streamlit's usual Heroku set-up: headless serving on $PORT. The project's own
# .streamlit/config.toml (XSRF, theme, error details) still applies on top of this.
set -e
mkdir -p "$HOME/.streamlit"
cat > "$HOME/.streamlit/config.toml" <<TOML
[server]
headless = true
port = ${PORT:-8501}
address = "0.0.0.0"

[browser]
gatherUsageStats = false
TOML
