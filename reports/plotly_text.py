"""Names as Plotly shows them: as typed, never as markup."""


def plotly_text(name: str) -> str:
    """A team, model or location name made safe for a Plotly trace name, category or hover
    template. Plotly renders <a href>, <b>, <br> ... found in them, so a model called
    `<a href="https://evil.example">atlas</a>` (any ingest token can name one) would be a live
    link in its hover label; the entities show the characters instead. `%{` would start a
    hover-template field: its brace is an entity too."""
    return (
        name.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("%{", "%&#123;")
    )
