"""The LangChain pieces: the agent middleware, retriever and tool, the reply prompt and its guard."""
