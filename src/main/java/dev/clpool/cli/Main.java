package dev.clpool.cli;

import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code java -jar clpool.jar COMMAND ...}: the command line of SEMANTICS.md. */
@Command(name = "clpool", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "1-D, 2-D and 3-D pooling of float32 and float16 tensors, channels-last or channels-first, on"
                + " OpenCL devices, with a multithreaded CPU fallback.",
        subcommands = {
            PoolCommand.class,
            GlobalCommand.class,
            AdaptiveCommand.class,
            BackwardCommand.class,
            UnpoolCommand.class,
            DemoCommand.class,
            ProbeCommand.class,
            ExplainCommand.class,
            CommandLine.HelpCommand.class,
        },
        footer = {"", "Exit codes: 0 success; 2 usage error or bad input; 3 the requested device or binding is"
                + " not available; 4 (probe --self-test) a device disagreed with the CPU; 1 anything unexpected."})
public final class Main {

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Log debug detail (kernel builds, device choice) to stderr.")
    boolean verbose;

    @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT, description = "Log only warnings and errors.")
    boolean quiet;

    public static void main(String[] args) {
        configureLogging(List.of(args)); // before any class of clpool makes its logger
        OptionalInt child = SignalChainingLauncher.relaunch();
        System.exit(child.isPresent() ? child.getAsInt() : run(args));
    }

    /** Runs the command line and returns its exit code (tests call this in-process). */
    public static int run(String... args) {
        configureLogging(List.of(args));
        if ("on".equals(System.getenv(SignalChainingLauncher.ENV))) {
            org.slf4j.LoggerFactory.getLogger(Main.class).debug("running with the JVM's signal chaining (libjsig preloaded)");
        }
        PrintWriter out = new PrintWriter(new PrintStream(new FileOutputStream(FileDescriptor.out), true,
                StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new PrintStream(new FileOutputStream(FileDescriptor.err), true,
                StandardCharsets.UTF_8), true);
        return commandLine(out, err).execute(args);
    }

    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cmd = new CommandLine(new Main());
        cmd.addSubcommand(new BenchCommand()); // here, not in @Command: other commands' lines stay untouched
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setExecutionExceptionHandler((e, line, parsed) -> ExitCodes.report(e, line.getErr()));
        cmd.setParameterExceptionHandler((e, args) -> {
            CommandLine where = e.getCommandLine();
            where.getErr().println("clpool: " + ExitCodes.oneLine(e.getMessage()) + " (see '"
                    + where.getCommandSpec().qualifiedName() + " --help')");
            return ExitCodes.BAD_INPUT;
        });
        return cmd;
    }

    /**
     * slf4j-simple reads its settings once, when the first logger is made: set them from the flags
     * before anything logs. Messages go to stderr, one line each.
     */
    private static void configureLogging(List<String> args) {
        String level = args.contains("-v") || args.contains("--verbose") ? "debug"
                : args.contains("-q") || args.contains("--quiet") ? "warn" : "info";
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setDefault("org.slf4j.simpleLogger.log.dev.clpool", level);
        setDefault("org.slf4j.simpleLogger.showThreadName", "false");
        setDefault("org.slf4j.simpleLogger.showLogName", "false");
        setDefault("org.slf4j.simpleLogger.showShortLogName", "false");
        setDefault("org.slf4j.simpleLogger.levelInBrackets", "true");
        setDefault("org.slf4j.simpleLogger.logFile", "System.err");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** The version from the jar's manifest (or "development" when run from classes). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"clpool " + (v == null ? "development build" : v)};
        }
    }
}
