"""The model: held-out figures, the leaderboard beside the tutorial's, predictions against truth. Layout only."""

import streamlit as st

from app_pages.shared import accuracy_headline, chart, get_model, held_out_predictions
from app_pages.view.labels import EQUALS, LEADERBOARD_MORE, equals_note, leaderboard_table, selected_model
from mpg import config

model = get_model()
card = model.card
st.title("The model")
st.subheader(f"Selected: {selected_model(card)}")
best = accuracy_headline()
if best is not None:  # the headline: the whole procedure, selection included, in every outer fold
    left, right = st.columns(2)
    left.metric("Nested CV RMSE of the whole procedure", f"{best.ours_mean:.3f} ± {best.ours_std:.3f} MPG")
    right.metric("The tutorial's procedure, same folds", f"{best.tutorial_mean:.3f} ± {best.tutorial_std:.3f} MPG")
    st.caption(
        "Trust this one. It repeats the whole procedure, model selection included, on cars each outer fold never "
        f"saw. The held-out RMSE below is one split of {card.test_row_count} cars, so it moves with the split; the "
        "CV RMSE is a little optimistic, because the same folds chose the model."
    )
    with st.expander("Details"):
        st.caption(f"{best.outer}, mean ± std over the outer folds (bench/results/accuracy.json, {best.measured_at}).")
one, two, three, four = st.columns(4)
one.metric("Held-out RMSE", f"{card.metrics.test_rmse:.2f} MPG")
two.metric("Held-out MAE", f"{card.metrics.test_mae:.2f} MPG")
three.metric("Held-out R²", f"{card.metrics.test_r2:.3f}")
four.metric("CV RMSE", f"{card.metrics.cv_rmse:.2f} ± {card.metrics.cv_rmse_std:.2f}")
st.caption(
    f"The tutorial's held-out RMSE on the same {card.test_row_count} cars: {config.TUTORIAL_TEST_RMSE:.2f} MPG. "
    "The held-out cars were used once, for these figures; selection used CV on the training rows only."
)

st.subheader(f"Leaderboard ({config.CV_FOLDS}-fold CV on the training rows)")
chart("leaderboard_chart", [row.model_dump(mode="json") | {"name": row.label} for row in card.leaderboard])
st.table(leaderboard_table(card), hide_index=True)  # static: every row and column shows, wrapped on a phone
with st.expander("CV MAE, R² and fit time"):
    st.table(leaderboard_table(card, LEADERBOARD_MORE), hide_index=True)

st.subheader("How it was chosen")
st.write(card.selection.rule)
st.caption(equals_note(card))
st.table(leaderboard_table(card, EQUALS), hide_index=True)  # a static table wraps: it fits a phone

st.subheader(f"The {card.test_row_count} held-out cars")
frame = held_out_predictions()
for half, name in zip(st.columns(2), ["predicted_vs_actual", "residuals_chart"], strict=True):
    with half:
        chart(name, frame)

with st.expander("Model card: identifiers, versions and hashes"):
    st.caption("As saved beside the model (models/model.json), with the identifiers the code uses.")
    identifiers = {
        "model": card.model,
        "version": model.version,
        "onnx_sha256": card.onnx_sha256,
        "model_sha256": card.model_sha256,
        "training data sha256": card.data.sha256,
        "trained_at": card.trained_at,
        "versions": card.versions,
        "split": card.split.model_dump(),
    }
    st.json(identifiers, expanded=False)
