from reports.plotly_text import plotly_text


def test_it_turns_markup_and_template_fields_into_entities():
    name = '<a href="x">m&m</a> %{y}'
    assert plotly_text(name) == '&lt;a href="x"&gt;m&amp;m&lt;/a&gt; %&#123;y}'


def test_it_leaves_plain_names_alone():
    assert plotly_text("atlas-7b (int8) 50%") == "atlas-7b (int8) 50%"
