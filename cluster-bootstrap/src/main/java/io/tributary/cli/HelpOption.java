package io.tributary.cli;

import picocli.CommandLine.Option;

/** {@code -h, --help} for a command that has no {@code --version}: its usage on stdout, exit status 0. */
public final class HelpOption {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean requested;
}
