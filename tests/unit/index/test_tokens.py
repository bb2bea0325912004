from app.index.tokens import code_tokens, split_identifier


def test_split_identifier_handles_camel_snake_and_acronyms():
    assert split_identifier("getHTTPResponse_code") == ["get", "http", "response", "code"]
    assert split_identifier("APIRouter") == ["api", "router"]
    assert split_identifier("save_user") == ["save", "user"]


def test_code_tokens_keep_whole_identifiers_and_parts():
    toks = code_tokens("return getUser(user_id)")
    assert "getuser" in toks and "get" in toks and "user" in toks
    assert "user_id" in toks and "id" in toks


def test_stop_words_dropped_only_when_asked():
    assert "the" in code_tokens("the user")
    assert code_tokens("where is the user", drop_stop_words=True) == ["user"]
