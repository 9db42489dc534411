namespace XmppFederation.Native;

/// <summary>
/// The result codes of libxmppfed: the names and numbers of <c>xmppfed_result</c> in
/// <c>include/xmppfed.h</c> (PascalCase of <c>XMPPFED_RESULT_*</c>). A test parses the header and
/// checks this mirror both ways.
/// </summary>
public enum XmppFedResult : int
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>A required pointer argument was NULL.</summary>
    NullArgument = 1,
    /// <summary>A string argument was not valid UTF-8.</summary>
    InvalidUtf8 = 2,
    /// <summary>JSON that is not well-formed.</summary>
    JsonSyntax = 3,
    /// <summary>Well-formed JSON of the wrong shape: wrong type, unknown or missing field, number out of range.</summary>
    JsonShape = 4,
    /// <summary>A domain (Identity, Domain, AdditionalDomains, ProxyFqdn) that is not a valid DNS name.</summary>
    InvalidDomain = 5,
    /// <summary>A property value outside its allowed range or form.</summary>
    InvalidValue = 6,
    /// <summary>A rejected TLS / SASL / dialback combination.</summary>
    InvalidNegotiation = 7,
    /// <summary>A wildcard filter that is not a valid pattern.</summary>
    InvalidFilter = 8,
    /// <summary>New with an identity that exists.</summary>
    AlreadyExists = 9,
    /// <summary>No partner has that identity.</summary>
    NotFound = 10,
    /// <summary>A domain already belongs to another partner.</summary>
    DomainConflict = 11,
    /// <summary>Set with an instance that changed in the store after it was read.</summary>
    StaleInstance = 12,
    /// <summary>The store could not be read or written.</summary>
    StoreIo = 13,
    /// <summary>A store file is damaged; nothing was changed.</summary>
    StoreCorrupt = 14,
    /// <summary>A store file of a newer format version than the library.</summary>
    StoreVersion = 15,
    /// <summary>Another process held the store lock longer than the lock timeout.</summary>
    StoreLocked = 16,
    /// <summary>No default store location is known; give a path.</summary>
    NoStoreLocation = 17,
    /// <summary>An input larger than the library accepts.</summary>
    InputTooLarge = 18,
    /// <summary>A store folder or file that other users could have written, or a link or special file where a store file belongs.</summary>
    StoreUntrusted = 19,
    /// <summary>The central store is not the store this machine knew (replaced, rolled back, or missing from its folder).</summary>
    StoreMismatch = 20,
    /// <summary>An import's store changed after its difference was computed; nothing was imported.</summary>
    StoreChanged = 21,
    /// <summary>An import with input items that cannot be imported; nothing was imported.</summary>
    ImportRejected = 22,
    /// <summary>An internal error (a bug) was caught at the library boundary.</summary>
    Panic = 100,
}
