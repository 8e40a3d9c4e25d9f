"""标准用语速查: every phrase the norm in force prescribes, by situation, on one page."""
