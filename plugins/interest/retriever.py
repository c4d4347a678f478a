"""LangChain integration for tool-capable models: a catalog retriever and a `recommend` tool."""

from __future__ import annotations

import json
from typing import Any

from langchain.tools import ToolRuntime
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, tool
from pydantic import ConfigDict


class InterestRetriever(BaseRetriever):
    """Catalog items as Documents, ranked by cosine between the query and the item text."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    plugin: Any
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        """Embed the query with the plugin's encoder and search its catalog."""
        k = self.k if k is None else k
        if k <= 0:
            return []
        vector = self.plugin.classifier.encoder.encode([query or " "])
        hits = self.plugin.catalog.search(vector, k=k)[0]
        catalog = self.plugin.catalog
        items = {catalog.qualify(item.id): item for item in catalog.get([qid for qid, _ in hits])}
        docs = []
        for qid, score in hits:
            item = items[qid]
            meta = {"item_id": qid, "title": item.title, "categories": list(item.categories), "score": float(score)}
            docs.append(Document(page_content=item.text, id=qid, metadata=meta))
        return docs


def recommend_tool(plugin: Any) -> BaseTool:
    """A `recommend` tool that reads the user id from the agent's runtime context."""
    @tool("recommend")
    def recommend(k: int = 5, runtime: ToolRuntime = None) -> str:  # type: ignore[assignment]
        """Recommend catalog items for the current user, with the reason for each, as JSON."""
        context = getattr(runtime, "context", None)
        user_id = getattr(context, "user_id", None) or (context or {}).get("user_id")
        recs = plugin.recommend(user_id, k=max(1, min(int(k), 20)))
        return json.dumps([{"title": r.title, "categories": r.categories, "reasons": r.reasons} for r in recs])

    return recommend
