"""LangChain integration for tool-capable models: a catalog retriever and a `recommend` tool."""

from __future__ import annotations

import json

from langchain.tools import ToolRuntime
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, tool
from pydantic import ConfigDict

from ..plugin import InterestPlugin
from .context import context_user_id


class InterestRetriever(BaseRetriever):
    """Catalog items as Documents, ranked by cosine between the query and the item text."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    plugin: InterestPlugin
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        """Embed the query with the plugin's encoder and search its catalog."""
        hits = self.plugin.search(query, self.k if k is None else k)
        return [
            Document(
                page_content=hit.item.text,
                id=hit.item_id,
                metadata={"item_id": hit.item_id, "title": hit.item.title, "categories": list(hit.item.categories), "score": hit.score},
            )
            for hit in hits
        ]


def recommend_tool(plugin: InterestPlugin) -> BaseTool:
    """A `recommend` tool that reads the user id from the agent's runtime context."""
    @tool("recommend")
    # LangChain injects the runtime, recognised by this annotation; the None default keeps the tool callable without one.
    def recommend(k: int = 5, runtime: ToolRuntime = None) -> str:  # type: ignore[assignment]  # see above
        """Recommend catalog items for the current user, with the reason for each, as JSON."""
        user_id = context_user_id(runtime.context if runtime is not None else None)
        recs = plugin.recommend(user_id, k=max(1, min(int(k), 20)))
        return json.dumps([{"title": r.title, "categories": r.categories, "reasons": r.reasons} for r in recs])

    return recommend
