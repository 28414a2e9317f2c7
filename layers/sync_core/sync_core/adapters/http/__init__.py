"""The HTTP adapter: the project routes (`routes`), the app that serves them (`app`), and how errors
become answers (`errors`). The services the routes use are assembled in `sync_core.adapters.assembly`."""
