import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

config = pulumi.Config()
container_port = config.get_int("containerPort", 80)
cpu = config.get_int("cpu", 512)
memory = config.get_int("memory", 128)

# The cluster the service runs in.
cluster = aws.ecs.Cluster("cluster")

# A load balancer in the default VPC, listening on port 80.
loadbalancer = awsx.lb.ApplicationLoadBalancer("loadbalancer")

# A private registry for the app's image; deleting the stack deletes the images too.
repo = awsx.ecr.Repository("repo", force_delete=True)

# The app's image, built from ./app and pushed to the registry.
image = awsx.ecr.Image(
    "image",
    repository_url=repo.url,
    context="./app",
    platform="linux/amd64",
)

# The app on Fargate, behind the load balancer's default target group.
service = awsx.ecs.FargateService(
    "service",
    cluster=cluster.arn,
    assign_public_ip=True,
    task_definition_args=awsx.ecs.FargateServiceTaskDefinitionArgs(
        container=awsx.ecs.TaskDefinitionContainerDefinitionArgs(
            name="app",
            image=image.image_uri,
            cpu=cpu,
            memory=memory,
            essential=True,
            port_mappings=[
                awsx.ecs.TaskDefinitionPortMappingArgs(
                    container_port=container_port,
                    target_group=loadbalancer.default_target_group,
                )
            ],
        ),
    ),
)

pulumi.export("url", pulumi.Output.concat("http://", loadbalancer.load_balancer.dns_name))
