# Dates and times on SMS's pages in English, as anglophone Africa writes them
# (day before month, 24-hour clock), one format per context: see core/display.py.
DATE_FORMAT = "j M Y"  # 20 Aug 2026
DATETIME_FORMAT = "j M Y, H:i"  # 20 Aug 2026, 09:07 (the zone is added by core.display)
SHORT_DATE_FORMAT = "d/m/Y"  # spreadsheets' date cells
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
