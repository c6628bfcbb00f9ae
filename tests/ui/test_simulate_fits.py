"""The Simulate plot's title and legend are not clipped at the dock's default width (issue 13, smaller list): at
a plot 300 px wide (the dock's least), the legend lies inside the plot's view and the title within the plot."""

from __future__ import annotations

from aldesk.ui.plots.curves import SimulationPlot

RESULT = {
    "dataset": "/data/rotten_tomatoes_movie_snippets_train.csv",
    "n_items": 13835,
    "n_classes": 2,
    "folds": 3,
    "budget": 150,
    "full_accuracy": 0.81,
    "strategies": {
        name: {
            "accuracy": [0.5 + 0.3 * min(1.0, i / (40 + 20 * j)) for i in range(150)],
            "labels_to_90": 30 + 10 * j,
            "labels_to_95": None if name == "random" else 60 + 10 * j,
        }
        for j, name in enumerate(("eer@10", "margin*i^0.5", "random"))
    },
}


def test_title_and_legend_fit_a_narrow_simulate_plot(qtbot) -> None:
    plot = SimulationPlot()
    qtbot.addWidget(plot)
    plot.resize(300, 360)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_result(RESULT)
    qtbot.wait(50)
    item = plot.getPlotItem()
    view = item.getViewBox().sceneBoundingRect()
    legend = item.legend.sceneBoundingRect()
    assert view.contains(legend), (view, legend)
    title = item.titleLabel.sceneBoundingRect()
    text_width = item.titleLabel.item.boundingRect().width()
    assert text_width <= title.width() + 1 and title.right() <= plot.width(), (text_width, title)
    assert "items · 2 classes · 3 folds" in item.titleLabel.text
