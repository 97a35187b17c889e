"""CSV import of products: the file's format (:mod:`app.data.csv_format`, the export's), read
and checked, planned against the catalog, written set-based.

* :mod:`.reading` - bytes to rows of cells, or the whole file refused (encoding, delimiter,
  header, size in rows)
* :mod:`.rows` - one row as a product change (the product rules, identity, categories, formula
  cells), or its rejection with the line number
* :mod:`.plan` - what each row would do now: create, update (merged field by field when the
  product moved on since the export), unchanged, conflict, rejected; two queries for any
  number of rows
* :mod:`.writes` - a batch of planned rows written in three statements, history source
  ``import``
* :mod:`.files` - the uploaded file and its dry run, kept in PostgreSQL
"""
