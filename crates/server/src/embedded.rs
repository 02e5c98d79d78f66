//! Java `CanalServerWithEmbedded`: batch bookkeeping of each destination over its store and meta manager.
