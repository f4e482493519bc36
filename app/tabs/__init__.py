"""One module per tab of the app (layout, actions and their input checks, events, cost). A tab imports
app/shared and patchdm_core's facade, never another tab."""
