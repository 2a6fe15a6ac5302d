"""Reporting: result records as tables, figures and one page.

One module a job:

- :mod:`.results`: a results folder read once (records + their long table), the one
  input of every table and figure of a build;
- :mod:`.tables`: the long table, the wide CSV and the markdown leaderboard;
- :mod:`.style`: the one figure style (sizes, fonts, formats, a colour per encoder);
- one module per figure kind: :mod:`.bars`, :mod:`.cross_dataset`, :mod:`.heatmaps`
  (per-class recall, confusion matrices), :mod:`.few_shot`, :mod:`.embedding`;
- :mod:`.figures`: the figure writer of ``fer-bench plot`` and ``fer-bench report``;
- :mod:`.report`: the page, ``index.html`` and ``index.md``.
"""
