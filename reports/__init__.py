"""Town-office report builders: plain data in, xlsx bytes out (xlsxwriter); no Flask, no database."""
