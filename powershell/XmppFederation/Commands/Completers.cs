using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace XmppFederation.Commands;

/// <summary>
/// Tab completion of -Identity (Get, Set, Remove), -Filter (Get) and -Domain (Test): the existing identities that
/// begin with the typed text, from the store the session's cmdlets use (the local replica when
/// -LocalStore is given). The library looks them up; this only turns them into completion results.
/// </summary>
public sealed class PartnerIdentityCompleter : IArgumentCompleter
{
    /// <summary>Most suggestions offered at once; type more of the name to narrow them.</summary>
    public const int MaxResults = 100;

    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var (quote, prefix) = Unquote(wordToComplete ?? string.Empty);
        bool localStore = fakeBoundParameters is not null && fakeBoundParameters.Contains("LocalStore")
            && LanguagePrimitives.IsTrue(fakeBoundParameters["LocalStore"]);
        IReadOnlyList<string> identities;
        try
        {
            identities = StoreCmdlet.SharedStore().Complete(prefix, MaxResults, localStore);
        }
        catch (Exception)
        {
            // A completion menu has nowhere to show an error: the cmdlet itself reports it when run.
            return Array.Empty<CompletionResult>();
        }
        return identities.Select(id => new CompletionResult(quote + id + quote, id, CompletionResultType.ParameterValue, id)).ToArray();
    }

    /// <summary>PowerShell syntax: a word typed with an opening quote is completed inside the same quotes.</summary>
    private static (string Quote, string Text) Unquote(string word)
    {
        if (word.Length > 0 && word[0] is '\'' or '"' or '\u2018' or '\u2019' or '\u201C' or '\u201D')
        {
            string quote = word[0] is '"' or '\u201C' or '\u201D' ? "\"" : "'";
            string text = word.Substring(1);
            if (text.Length > 0 && text[text.Length - 1] == word[0])
            {
                text = text.Substring(0, text.Length - 1);
            }
            return (quote, text);
        }
        return (string.Empty, word);
    }
}

/// <summary>Tab completion of the $true/$false parameters.</summary>
public sealed class BooleanCompleter : IArgumentCompleter
{
    private static readonly string[] Values = { "$true", "$false" };

    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = wordToComplete ?? string.Empty;
        return Values
            .Where(v => v.StartsWith(word, StringComparison.OrdinalIgnoreCase) || v.Substring(1).StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(v => new CompletionResult(v, v, CompletionResultType.ParameterValue, v))
            .ToArray();
    }
}
