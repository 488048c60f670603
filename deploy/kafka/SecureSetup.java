// Principals, SCRAM credentials, topics and ACLs of a secured Tongban broker, through Kafka's Admin API.
//
// Run by `deploy/kafka/kafka.sh secure-setup` (java single-file source launch, one JVM for everything):
//   java -cp 'libs/*' SecureSetup.java --command-config admin.properties --credentials-dir DIR
//        [--topic-prefix tongban] [--principal-prefix tongban] [--localities 310110,320505,331000,341600]
//        [--services catalogue,routing,authorization,delivery,dashboard,webhooks]
//        [--partitions 3] [--replication 1] [--dry-run]
//
// Idempotent: missing topics are created, every principal's SCRAM-SHA-512 credential is (re)set from
// DIR/<principal>.password (a random one is written, mode 0600, when the file is missing), and each
// managed principal ends with exactly the ACLs below (extra ones are deleted). Passwords never leave DIR.
//
//   service S (every service):  Topic <prefix>.locality.<code>       READ, WRITE  (consume; publish events)
//                               Topic <prefix>.locality.<code>.dlt   WRITE        (dead letters; DESCRIBE implied)
//                               Group tongban-S                      READ         (its consumer group)
//                               Cluster                              IDEMPOTENT_WRITE
//   dashboard:                  Topic every locality topic and DLT   READ; WRITE on DLTs only (dead letters)
//                               Group tongban-dashboard READ; Group prefix tongban- DESCRIBE (consumer lag)
//                               Cluster                              IDEMPOTENT_WRITE
//   locality L:                 Topic <prefix>.locality.L            READ (nothing else: no WRITE anywhere)
//                               Group prefix <prefix>.locality.L.    READ (its own consumer groups)
//   topics (`tongban kafka create-topics` of the deploy jobs):
//                               Topic every locality topic and DLT   CREATE, DESCRIBE (nothing else)
// Topics are also created here by the super-user; no principal but `topics` may create anything,
// and none may alter or delete.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

public class SecureSetup {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,100}");
    static final Pattern CODE = Pattern.compile("[0-9]{6}");

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>(Map.of(
            "--topic-prefix", "tongban", "--localities", "310110,320505,331000,341600",
            "--services", "catalogue,routing,authorization,delivery,dashboard,webhooks",
            "--partitions", "3", "--replication", "1"));
        boolean dryRun = false;
        for (int i = 0; i < argv.length; i++) {
            if (argv[i].equals("--dry-run")) { dryRun = true; continue; }
            if (i + 1 >= argv.length) fail("missing value after " + argv[i]);
            args.put(argv[i], argv[++i]);
        }
        String topicPrefix = check(NAME, args.get("--topic-prefix"), "topic prefix");
        String principalPrefix = check(NAME, args.getOrDefault("--principal-prefix", topicPrefix), "principal prefix");
        List<String> localities = split(args.get("--localities"));
        List<String> services = split(args.get("--services"));
        for (String code : localities) check(CODE, code, "locality code");
        for (String service : services) check(NAME, service, "service name");
        if (localities.isEmpty()) fail("no localities given");

        List<String> topics = new ArrayList<>();
        List<String> deadLetters = new ArrayList<>();
        for (String code : localities) {
            topics.add(topicPrefix + ".locality." + code);
            deadLetters.add(topicPrefix + ".locality." + code + ".dlt");
        }
        Map<String, Set<AclBinding>> wanted = new java.util.LinkedHashMap<>();
        for (String service : services) {
            String principal = "User:" + principalPrefix + "-" + service;
            Set<AclBinding> acl = new LinkedHashSet<>();
            boolean dashboard = service.equals("dashboard");
            for (String topic : topics) {
                allow(acl, principal, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ);
                if (!dashboard) allow(acl, principal, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.WRITE);
            }
            for (String topic : deadLetters) {
                if (dashboard) allow(acl, principal, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ);
                allow(acl, principal, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.WRITE);
            }
            allow(acl, principal, ResourceType.GROUP, "tongban-" + service, PatternType.LITERAL, AclOperation.READ);
            if (dashboard) allow(acl, principal, ResourceType.GROUP, "tongban-", PatternType.PREFIXED, AclOperation.DESCRIBE);
            allow(acl, principal, ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, AclOperation.IDEMPOTENT_WRITE);
            wanted.put(principal, acl);
        }
        String creator = "User:" + principalPrefix + "-topics";
        Set<AclBinding> creates = new LinkedHashSet<>();
        for (String topic : concat(topics, deadLetters)) {
            allow(creates, creator, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.CREATE);
            allow(creates, creator, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.DESCRIBE);
        }
        wanted.put(creator, creates);
        for (String code : localities) {
            String principal = "User:" + principalPrefix + "-locality-" + code;
            Set<AclBinding> acl = new LinkedHashSet<>();
            allow(acl, principal, ResourceType.TOPIC, topicPrefix + ".locality." + code, PatternType.LITERAL, AclOperation.READ);
            allow(acl, principal, ResourceType.GROUP, topicPrefix + ".locality." + code + ".", PatternType.PREFIXED, AclOperation.READ);
            wanted.put(principal, acl);
        }
        for (Map.Entry<String, Set<AclBinding>> entry : wanted.entrySet()) {
            for (AclBinding b : entry.getValue()) {
                System.out.printf("acl %-36s %-8s %-9s %-44s %s%n", entry.getKey(), b.pattern().resourceType(),
                    b.pattern().patternType(), b.pattern().name(), b.entry().operation());
            }
        }
        if (dryRun) return;

        String config = args.get("--command-config");
        String credentialsDir = args.get("--credentials-dir");
        if (config == null || credentialsDir == null) fail("--command-config and --credentials-dir are required");
        Properties props = new Properties();
        try (var in = Files.newInputStream(Path.of(config))) { props.load(in); }
        props.putIfAbsent("request.timeout.ms", "20000");
        Path credentials = Path.of(credentialsDir);
        if (!Files.isDirectory(credentials)) Files.createDirectories(credentials);

        try (Admin admin = Admin.create(props)) {
            // 1. Topics (the super-user creates them; no service may).
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            int partitions = Integer.parseInt(args.get("--partitions"));
            short replication = Short.parseShort(args.get("--replication"));
            for (String topic : concat(topics, deadLetters)) {
                if (!existing.contains(topic)) missing.add(new NewTopic(topic, partitions, replication));
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException exc) {
                    if (!(exc.getCause() instanceof TopicExistsException)) throw exc;
                }
            }
            System.out.println("topics: " + missing.size() + " created, " + (topics.size() * 2 - missing.size()) + " present");

            // 2. SCRAM credentials, one per principal, from the credentials folder.
            List<UserScramCredentialAlteration> upserts = new ArrayList<>();
            for (String principal : wanted.keySet()) {
                String user = principal.substring("User:".length());
                upserts.add(new UserScramCredentialUpsertion(user,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password(credentials, user)));
            }
            admin.alterUserScramCredentials(upserts).all().get(60, TimeUnit.SECONDS);
            System.out.println("scram: " + upserts.size() + " principals, passwords in " + credentials);

            // 3. ACLs: exactly the wanted ones for each managed principal.
            List<AclBindingFilter> stale = new ArrayList<>();
            List<AclBinding> create = new ArrayList<>();
            for (Map.Entry<String, Set<AclBinding>> entry : wanted.entrySet()) {
                AclBindingFilter mine = new AclBindingFilter(ResourcePatternFilter.ANY,
                    new AccessControlEntryFilter(entry.getKey(), null, AclOperation.ANY, AclPermissionType.ANY));
                Collection<AclBinding> present = admin.describeAcls(mine).values().get(30, TimeUnit.SECONDS);
                for (AclBinding b : present) {
                    if (!entry.getValue().contains(b)) stale.add(b.toFilter());
                }
                Set<AclBinding> have = new HashSet<>(present);
                for (AclBinding b : entry.getValue()) {
                    if (!have.contains(b)) create.add(b);
                }
            }
            if (!stale.isEmpty()) admin.deleteAcls(stale).all().get(60, TimeUnit.SECONDS);
            if (!create.isEmpty()) admin.createAcls(create).all().get(60, TimeUnit.SECONDS);
            System.out.println("acls: " + create.size() + " created, " + stale.size() + " removed");
        }
    }

    static void allow(Set<AclBinding> acl, String principal, ResourceType type, String name, PatternType pattern,
                      AclOperation op) {
        acl.add(new AclBinding(new ResourcePattern(type, name, pattern),
            new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW)));
    }

    static String password(Path dir, String user) throws Exception {
        Path file = dir.resolve(user + ".password");
        if (!Files.exists(file) && !Files.isWritable(dir)) fail("no password file " + file + " (and " + dir + " is read-only)");
        if (!Files.exists(file)) {
            byte[] raw = new byte[24];
            new SecureRandom().nextBytes(raw);
            Path tmp = dir.resolve(user + ".password.tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, HexFormat.of().formatHex(raw) + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file);
        }
        String secret = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (secret.length() < 12) fail(file + " holds a password shorter than 12 characters");
        return secret;
    }

    static List<String> split(String value) {
        List<String> out = new ArrayList<>();
        for (String part : value.split(",")) if (!part.isBlank()) out.add(part.strip());
        return out;
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    static String check(Pattern pattern, String value, String what) {
        if (value == null || !pattern.matcher(value).matches()) fail("invalid " + what + ": " + value);
        return value;
    }

    static void fail(String message) {
        System.err.println("secure-setup: " + message);
        System.exit(2);
    }
}
