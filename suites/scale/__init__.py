"""The scale suite (`certkit run --suite scale`): thousands of shares, with cost curves."""
