"""The paper adapter: typed-in paper questionnaires (the export's wide layout, CSV or XLSX) read into engine input."""
