"""InterestRetriever passes LangChain's standard retriever suite, on the real catalog and encoder."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from langchain_core.tools import StructuredTool
from langchain_tests.integration_tests import RetrieversIntegrationTests

from interest_bot.plugins.interest.agent.retriever import InterestRetriever, recommend_tool
from interest_bot.plugins.interest.plugin import InterestPlugin


@pytest.fixture(scope="module")
def _suite_plugin(catalog_template, encoder, tmp_path_factory) -> Any:
    data = tmp_path_factory.mktemp("retriever") / "data"
    shutil.copytree(catalog_template, data, ignore=shutil.ignore_patterns(".complete", ".interest-bot.lock"))
    plugin = InterestPlugin.open(data_dir=data, encoder=encoder)
    yield plugin
    plugin.close()


class TestInterestRetrieverStandard(RetrieversIntegrationTests):
    plugin: InterestPlugin

    @pytest.fixture(autouse=True)
    def _bind(self, _suite_plugin: InterestPlugin) -> None:
        type(self).plugin = _suite_plugin

    @property
    def retriever_constructor(self) -> type[InterestRetriever]:
        return InterestRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"plugin": self.plugin, "k": 4}

    @property
    def retriever_query_example(self) -> str:
        return "a space adventure with rebels and an empire"


def test_retriever_finds_the_described_movie(_suite_plugin: InterestPlugin) -> None:
    docs = InterestRetriever(plugin=_suite_plugin, k=5).invoke("Star Wars (1977)")
    assert docs[0].metadata["title"] == "Star Wars"
    assert docs[0].metadata["item_id"] == "movielens-100k:50"
    assert docs[0].metadata["score"] >= docs[-1].metadata["score"]


def test_recommend_tool_reads_user_from_runtime(_suite_plugin: InterestPlugin) -> None:
    import json
    from types import SimpleNamespace

    _suite_plugin.observe("tool-user", "I love westerns")
    tool = recommend_tool(_suite_plugin)
    assert isinstance(tool, StructuredTool) and tool.func is not None  # made by @tool from a function
    out = tool.func(k=3, runtime=SimpleNamespace(context=SimpleNamespace(user_id="tool-user")))
    recs = json.loads(out)
    assert len(recs) == 3 and all(r["reasons"] for r in recs)
    assert any("Western" in r["categories"] for r in recs)
