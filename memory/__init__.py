"""Storage for interest-bot: catalog, interest events and profiles, collaborative counts. No models here."""
