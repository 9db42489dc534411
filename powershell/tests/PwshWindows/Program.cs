namespace XmppFederation.Tests.PwshWindows;

/// <summary>The console host of PowerShell, as pwsh.exe starts it.</summary>
public static class Program
{
    public static int Main(string[] args) => Microsoft.PowerShell.UnmanagedPSEntry.Start(args, args.Length);
}
