"""The daily risk report: build (model from an assessment), render (HTML, Markdown, JSON), write, mail."""
